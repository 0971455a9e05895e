package project

// CheckPath says what is wrong with an API Gateway resource path ("/pets/{id}"), or "" when it
// is fine. Exported so that every source of the model (config.yaml, a SAM template) accepts the
// same paths.
func CheckPath(p string) string { return checkPath(p) }

// CheckMainPackage says what is wrong with dir as a function's source (missing, not a folder,
// no Go files, not package main), or "" when it is fine; name is how the message spells dir.
func CheckMainPackage(dir, name string) string { return checkMainPackage(dir, name) }
