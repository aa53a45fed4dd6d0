package core

import (
	"context"
	"strings"
	"time"

	"github.com/convo-sdk/convo/internal/jsonc"
	"github.com/convo-sdk/convo/wire"
)

// ContentTemplate is a content template of the server: its variables with their default
// values and its variants as JSON, whose strings hold "{{name}}" placeholders.
type ContentTemplate struct {
	Sid          string
	FriendlyName string
	Variables    []ContentVariable
	Variants     wire.RawJSON
	DateCreated  time.Time
	DateUpdated  time.Time
}

// ContentVariable is a named value of a content template.
type ContentVariable struct {
	Name  string
	Value string
}

// GetContentTemplates returns every content template of the server.
func (c *Client) GetContentTemplates(ctx context.Context) ([]ContentTemplate, error) {
	if err := c.ready(ctx); err != nil {
		return nil, err
	}
	templates, err := listAll(ctx, c, wire.OpContentList, wire.MaxPageSize,
		func(p *wire.ContentTemplatePage) ([]wire.ContentTemplate, string) { return p.Items, p.Next })
	return convertAll(templates, func(t wire.ContentTemplate) ContentTemplate {
		return ContentTemplate{Sid: t.Sid, FriendlyName: t.FriendlyName, Variables: contentVariablesOf(t.Variables),
			Variants: t.Variants, DateCreated: t.DateCreated, DateUpdated: t.DateUpdated}
	}), err
}

// contentVariablesOf converts variables from the wire, keeping nil as nil.
func contentVariablesOf(vs []wire.ContentVariable) []ContentVariable {
	return convertAll(vs, func(v wire.ContentVariable) ContentVariable { return ContentVariable(v) })
}

// wireContentVariables converts variables to the wire, keeping nil as nil.
func wireContentVariables(vs []ContentVariable) []wire.ContentVariable {
	return convertAll(vs, func(v ContentVariable) wire.ContentVariable { return wire.ContentVariable(v) })
}

// convertAll converts each element of s with f, keeping nil as nil.
func convertAll[From, To any](s []From, f func(From) To) []To {
	if s == nil {
		return nil
	}
	out := make([]To, len(s))
	for i, v := range s {
		out[i] = f(v)
	}
	return out
}

// GetContentData returns the variants of the message's content template with its variables
// filled in ("{{1}}" placeholders replaced), or nil when it has no template.
func (m *Message) GetContentData(ctx context.Context) (wire.RawJSON, error) {
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
// Keys, numbers and the members' order are kept as they are; invalid JSON is returned
// unchanged.
func fillTemplate(raw wire.RawJSON, values map[string]string) wire.RawJSON {
	d := jsonc.NewDecoder(raw)
	out := fillValue(d, nil, values)
	if d.End() != nil {
		return raw
	}
	return out
}

func fillValue(d *jsonc.Decoder, b []byte, values map[string]string) []byte {
	switch d.Peek() {
	case '{':
		start := len(b)
		for n := 0; d.Member(n); n++ {
			b = append(b, ',')
			b = jsonc.AppendString(b, string(d.Key))
			b = append(b, ':')
			b = fillValue(d, b, values)
		}
		return jsonc.Close(b, start)
	case '[':
		b = append(b, '[')
		for n := 0; d.Elem(n); n++ {
			if n > 0 {
				b = append(b, ',')
			}
			b = fillValue(d, b, values)
		}
		return append(b, ']')
	case '"':
		var s string
		d.Str(&s)
		for name, value := range values {
			s = strings.ReplaceAll(s, "{{"+name+"}}", value)
		}
		return jsonc.AppendString(b, s)
	}
	return append(b, d.RawValue()...)
}
