package server

import (
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

// precompressed lists the encodings the static handler serves from sibling files (name.br,
// name.gz) built ahead of time, best first.
var precompressed = []struct{ encoding, suffix string }{
	{"br", ".br"},
	{"gzip", ".gz"},
}

func (s *Server) staticHandler() http.Handler {
	if s.cfg.Static == nil {
		return http.NotFoundHandler()
	}
	return staticFiles(s.cfg.Static)
}

// staticFiles serves a folder, sending a precompressed sibling when the browser accepts its
// encoding: the wasm SDK is 6 MB raw and about 1.3 MB as brotli.
func staticFiles(root fs.FS) http.Handler {
	files := http.FileServerFS(root)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(path.Clean(r.URL.Path), "/")
		ctype := mime.TypeByExtension(path.Ext(name))
		if path.Ext(name) == ".wasm" {
			// Browsers only stream-compile WebAssembly served with this type.
			ctype = "application/wasm"
		}
		if ctype != "" {
			w.Header().Set("Content-Type", ctype)
		}
		if name != "" && !strings.HasSuffix(r.URL.Path, "/") {
			w.Header().Add("Vary", "Accept-Encoding")
			accepted := r.Header.Get("Accept-Encoding")
			for _, p := range precompressed {
				if !acceptsEncoding(accepted, p.encoding) {
					continue
				}
				if st, err := fs.Stat(root, name+p.suffix); err == nil && !st.IsDir() {
					w.Header().Set("Content-Encoding", p.encoding)
					r2 := r.Clone(r.Context())
					r2.URL.Path = "/" + name + p.suffix
					files.ServeHTTP(w, r2)
					return
				}
			}
		}
		files.ServeHTTP(w, r)
	})
}

// acceptsEncoding reports whether an Accept-Encoding header allows enc (q=0 refuses it).
func acceptsEncoding(header, enc string) bool {
	for _, part := range strings.Split(header, ",") {
		token, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(token), enc) {
			continue
		}
		q := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
