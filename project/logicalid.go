package project

import "strings"

// Logical ids the SAM template gives the API resource: RestAPILogicalID for a REST API,
// HTTPAPILogicalID for an HTTP API. A function's name is its logical id, so neither can name one.
const (
	RestAPILogicalID = "RestAPI"
	HTTPAPILogicalID = "HttpAPI"
)

// LogicalIDOwner returns what else in the packaged SAM template, or in SAM's expansion of it, has
// name as its logical id ("the API", "the role SAM creates for Pets"), or "" when nothing does.
// isFunction says whether a name is one of the application's functions.
//
// Both API ids are refused whatever api.kind says, so that switching the kind (or a stage that
// switches it) cannot turn a valid function name into a clash.
func LogicalIDOwner(name string, isFunction func(string) bool) string {
	switch {
	case name == RestAPILogicalID || name == HTTPAPILogicalID:
		return "the API"
	case strings.HasSuffix(name, "Role") && isFunction(strings.TrimSuffix(name, "Role")):
		return "the role SAM creates for " + strings.TrimSuffix(name, "Role")
	case strings.HasSuffix(name, "Url") && isFunction(strings.TrimSuffix(name, "Url")):
		// Refused whether or not that function has a URL, so that giving it one cannot clash.
		return "the function URL SAM creates for " + strings.TrimSuffix(name, "Url")
	}
	return ""
}
