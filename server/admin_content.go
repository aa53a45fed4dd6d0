package server

import (
	"encoding/json"
	"net/http"

	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// Limits of content templates (ours: the vendor's are not published).
const (
	maxContentVariables     = 100
	maxContentVariableChars = 1024
	maxContentVariantsBytes = 64 << 10
)

type adminContentArgs struct {
	FriendlyName *string                 `json:"friendlyName"`
	Variables    *[]wire.ContentVariable `json:"variables"`
	Variants     wire.RawJSON            `json:"variants"`
}

func (a *adminContentArgs) check() error {
	if a.FriendlyName != nil {
		if err := maxChars("friendlyName", *a.FriendlyName, wire.MaxFriendlyNameChars); err != nil {
			return err
		}
	}
	if a.Variables != nil {
		vs := *a.Variables
		if len(vs) > maxContentVariables {
			return wire.Errorf(wire.CodeTooLarge, "a template has at most %d variables, got %d", maxContentVariables, len(vs))
		}
		seen := map[string]bool{}
		for i, v := range vs {
			if v.Name == "" {
				return wire.Errorf(wire.CodeBadRequest, "variables[%d].name is required", i)
			}
			if seen[v.Name] {
				return wire.Errorf(wire.CodeBadRequest, "variable %q appears twice", v.Name)
			}
			seen[v.Name] = true
			if err := maxChars("variables[].name", v.Name, maxContentVariableChars); err != nil {
				return err
			}
			if err := maxChars("variables[].value", v.Value, maxContentVariableChars); err != nil {
				return err
			}
		}
	}
	if len(a.Variants) > 0 {
		if len(a.Variants) > maxContentVariantsBytes {
			return wire.Errorf(wire.CodeTooLarge, "variants are %d bytes of JSON; the limit is %d", len(a.Variants), maxContentVariantsBytes)
		}
		var m map[string]wire.RawJSON
		if err := json.Unmarshal(a.Variants, &m); err != nil || m == nil {
			return wire.Errorf(wire.CodeBadRequest, `variants must be a JSON object mapping content types to definitions, like {"twilio/text": {"body": "Hi {{1}}"}}`)
		}
	}
	return nil
}

func (s *Server) adminCreateContent(r *adminReq) (int, any, error) {
	var a adminContentArgs
	if err := r.decode(&a); err != nil {
		return 0, nil, err
	}
	if err := a.check(); err != nil {
		return 0, nil, err
	}
	nt := store.NewContentTemplate{Variants: a.Variants}
	if a.FriendlyName != nil {
		nt.FriendlyName = *a.FriendlyName
	}
	if a.Variables != nil {
		nt.Variables = *a.Variables
	}
	t, err := s.cfg.Store.CreateContentTemplate(r.ctx, nt)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusCreated, t, nil
}

func (s *Server) adminListContent(r *adminReq) (int, any, error) {
	items, next, err := adminList(r, s.cfg.Store.ContentTemplates)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, wire.ContentTemplatePage{Items: items, Next: next}, nil
}

func (s *Server) adminGetContent(r *adminReq) (int, any, error) {
	t, err := s.cfg.Store.ContentTemplate(r.ctx, r.path("sid"))
	if err != nil {
		return 0, nil, storeErr(err, contentTemplateThing(r.path("sid")))
	}
	return http.StatusOK, t, nil
}

func (s *Server) adminUpdateContent(r *adminReq) (int, any, error) {
	var a adminContentArgs
	if err := r.decode(&a); err != nil {
		return 0, nil, err
	}
	if err := a.check(); err != nil {
		return 0, nil, err
	}
	t, err := s.cfg.Store.UpdateContentTemplate(r.ctx, r.path("sid"), store.ContentTemplateUpdate{
		FriendlyName: a.FriendlyName, Variables: a.Variables, Variants: a.Variants})
	if err != nil {
		return 0, nil, storeErr(err, contentTemplateThing(r.path("sid")))
	}
	return http.StatusOK, t, nil
}

func (s *Server) adminDeleteContent(r *adminReq) (int, any, error) {
	if err := s.cfg.Store.DeleteContentTemplate(r.ctx, r.path("sid")); err != nil {
		return 0, nil, storeErr(err, contentTemplateThing(r.path("sid")))
	}
	return http.StatusNoContent, nil, nil
}
