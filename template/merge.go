package template

import (
	"fmt"
	"os"
	"strings"
)

// Merge deep-merges the template in overlayFile (JSON or YAML, short-form tags allowed) into
// generated and returns the result; generated itself is not changed. Maps merge key by key; the
// overlay wins on everything else: strings, numbers, lists (replaced whole, never appended) and
// intrinsic functions ({"Ref": ...} replaces whatever was there). A null in the overlay removes the
// key, so an overlay can drop a generated property.
func Merge(generated Document, overlayFile string) (Document, error) {
	data, err := os.ReadFile(overlayFile)
	if err != nil {
		return nil, fmt.Errorf("read merge template: %w", err)
	}
	overlay, err := parse(data, overlayFile)
	if err != nil {
		return nil, fmt.Errorf("parse merge template: %w", err)
	}
	return Document(mergeMaps(deepCopy(map[string]any(generated)).(map[string]any), overlay, "")), nil
}

// mergeMaps merges overlay into base; key is the key base sits under.
func mergeMaps(base, overlay map[string]any, key string) map[string]any {
	for k, o := range overlay {
		if o == nil {
			delete(base, k)
			continue
		}
		bm, bok := base[k].(map[string]any)
		om, ook := o.(map[string]any)
		// Environment variables are plain names, so {"Ref": "main"} there is a variable, not a call.
		vars := key == "Environment" && k == "Variables"
		if bok && ook && (vars || !isIntrinsic(bm) && !isIntrinsic(om)) {
			base[k] = mergeMaps(bm, om, k)
			continue
		}
		base[k] = o
	}
	return base
}

// isIntrinsic says whether m is a function call ({"Ref": x}, {"Fn::Sub": s}): one value, never
// merged key by key, since {"Ref": a, "Fn::GetAtt": b} means nothing.
func isIntrinsic(m map[string]any) bool {
	if len(m) != 1 {
		return false
	}
	for k := range m {
		return k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::")
	}
	return false
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = deepCopy(e)
		}
		return out
	default:
		return v
	}
}
