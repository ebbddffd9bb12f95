package events

import (
	"encoding/json"
	"regexp"
	"strings"
)

// What a target receives, as EventBridge shapes it (EventBridge User Guide,
// "Transforming target input"): Input, InputPath or InputTransformer.

var placeholder = regexp.MustCompile(`<([A-Za-z0-9_.-]+)>`)

// transform shapes the message a target receives.
func transform(t eventTarget, event map[string]any) string {
	switch {
	case t.Input != "":
		return t.Input
	case t.InputPath != "":
		b, _ := json.Marshal(jsonPath(event, t.InputPath))
		return string(b)
	case t.InputTransformer != nil:
		return placeholder.ReplaceAllStringFunc(t.InputTransformer.InputTemplate, func(m string) string {
			path, ok := t.InputTransformer.InputPathsMap[strings.Trim(m, "<>")]
			if !ok {
				return m
			}
			switch v := jsonPath(event, path).(type) {
			case string:
				return v
			case nil:
				return ""
			default:
				b, _ := json.Marshal(v)
				return string(b)
			}
		})
	}
	b, _ := json.Marshal(event)
	return string(b)
}

// jsonPath reads a simple $.a.b path.
func jsonPath(doc map[string]any, path string) any {
	var cur any = doc
	for _, part := range strings.Split(strings.TrimPrefix(strings.TrimPrefix(path, "$"), "."), ".") {
		if part == "" {
			continue
		}
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[part]
	}
	return cur
}
