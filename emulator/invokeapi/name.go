package invokeapi

import (
	"cmp"
	"fmt"
	"regexp"
	"strings"

	"github.com/devserver/devserver/project"
)

// functionName is the name part Lambda accepts: letters, digits, hyphens and underscores, 1 to
// 64 characters.
var functionName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

// namePattern is the FunctionName pattern Lambda's validation message quotes.
const namePattern = `(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?`

// qualifierPattern is a version number, $LATEST or an alias name.
var qualifierPattern = regexp.MustCompile(`^(\$LATEST|[a-zA-Z0-9_-]{1,128})$`)

// target is the function a request names, once found in the model.
type target struct {
	fn  *project.Function
	arn string
}

// resolve finds the function that the FunctionName label and the Qualifier query name. The label
// is a name, a partial ARN (123456789012:function:Name) or a full ARN, each optionally ending in
// :qualifier, as Lambda accepts them. Only $LATEST is served: any other qualifier, another
// account or region, or a name missing from the model is ResourceNotFoundException, as for a
// function that does not exist.
func (a *API) resolve(p *project.Project, label, qualifier string) (target, *apiError) {
	parts := strings.Split(label, ":")
	var account, region, name, derived string
	switch {
	case len(parts) <= 2:
		name = parts[0]
		if len(parts) == 2 {
			derived = parts[1]
		}
	case (len(parts) == 3 || len(parts) == 4) && parts[1] == "function":
		account, name = parts[0], parts[2]
		if len(parts) == 4 {
			derived = parts[3]
		}
	case (len(parts) == 7 || len(parts) == 8) && parts[0] == "arn" && parts[2] == "lambda" && parts[5] == "function":
		region, account, name = parts[3], parts[4], parts[6]
		if len(parts) == 8 {
			derived = parts[7]
		}
	}
	if !functionName.MatchString(name) || derived != "" && !qualifierPattern.MatchString(derived) {
		return target{}, validation("1 validation error detected: Value '" + label + "' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: " + namePattern)
	}
	if qualifier != "" && !qualifierPattern.MatchString(qualifier) {
		return target{}, validation("1 validation error detected: Value '" + qualifier + "' at 'qualifier' failed to satisfy constraint: Member must satisfy regular expression pattern: " + qualifierPattern.String())
	}
	if derived != "" && qualifier != "" && derived != qualifier {
		return target{}, invalidParameter("The derived qualifier from the function name does not match the specified qualifier.")
	}
	if qualifier == "" {
		qualifier = derived
	}
	asked := fmt.Sprintf("arn:aws:lambda:%s:%s:function:%s", cmp.Or(region, a.cfg.Region), cmp.Or(account, a.cfg.AccountID), name)
	if qualifier != "" {
		asked += ":" + qualifier
	}
	f := p.Function(name)
	if f == nil || asked != a.arn(name) && asked != a.arn(name)+":"+Latest {
		return target{}, notFound(asked)
	}
	return target{fn: f, arn: a.arn(name)}, nil
}
