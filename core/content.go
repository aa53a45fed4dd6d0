package core

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/convo-sdk/convo/wire"
)

// GetContentTemplates returns every content template of the server.
func (c *Client) GetContentTemplates(ctx context.Context) ([]wire.ContentTemplate, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	return listAll(ctx, c, wire.OpContentList, wire.MaxPageSize,
		func(p *wire.ContentTemplatePage) ([]wire.ContentTemplate, string) { return p.Items, p.Next })
}

// GetContentData returns the variants of the message's content template with its variables
// filled in ("{{1}}" placeholders replaced), or nil when it has no template.
func (m *Message) GetContentData(ctx context.Context) (json.RawMessage, error) {
	sid := m.ContentSid()
	if sid == "" {
		return nil, nil
	}
	templates, err := m.conv.client.GetContentTemplates(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range templates {
		if t.Sid != sid {
			continue
		}
		values := map[string]string{}
		for _, v := range t.Variables {
			values[v.Name] = v.Value
		}
		for _, v := range m.ContentVariables() {
			values[v.Name] = v.Value
		}
		return fillTemplate(t.Variants, values), nil
	}
	return nil, wire.Errorf(wire.CodeNotFound, "content template %s not found", sid)
}

// fillTemplate replaces {{name}} placeholders inside the JSON strings of a template.
func fillTemplate(raw json.RawMessage, values map[string]string) json.RawMessage {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	var walk func(any) any
	walk = func(x any) any {
		switch t := x.(type) {
		case string:
			for name, value := range values {
				t = strings.ReplaceAll(t, "{{"+name+"}}", value)
			}
			return t
		case []any:
			for i := range t {
				t[i] = walk(t[i])
			}
		case map[string]any:
			for k := range t {
				t[k] = walk(t[k])
			}
		}
		return x
	}
	out, err := json.Marshal(walk(v))
	if err != nil {
		return raw
	}
	return out
}
