// Which sites may talk to this server. Two checks guard it:
//
//   - Host, on every route: a page whose DNS name an attacker controls can point that name
//     at this server (DNS rebinding) and read what it answers under that name, /metrics to
//     loopback clients included. So a request must be addressed to this server by a host
//     name of Config.PublicOrigins (or of PublicURL), an IP address or localhost: names no
//     outside page can rebind.
//   - Origin, on the WebSocket and media uploads (which pages use): a page may use them when
//     its origin (scheme, host and port) is the request's own or one of PublicOrigins, or
//     matches Config.AllowedOrigins.

package server

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/convo-sdk/convo/wire"
)

// NormalizeOrigin checks that s is an origin, scheme://host[:port] with scheme http or https
// (ws and wss read as http and https), and returns it lower-cased without a default port.
func NormalizeOrigin(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || (u.Path != "" && u.Path != "/") {
		return "", fmt.Errorf("origin %q must be written scheme://host[:port], without a path", wire.Clip(s))
	}
	return originOf(u, s)
}

// originOf is the origin of u; raw is u as written, for the error.
func originOf(u *url.URL, raw string) (string, error) {
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "ws":
		scheme = "http"
	case "wss":
		scheme = "https"
	}
	if (scheme != "http" && scheme != "https") || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("origin %q must be written scheme://host[:port] with scheme http or https", wire.Clip(raw))
	}
	host := strings.ToLower(u.Host)
	if p := u.Port(); (scheme == "http" && p == "80") || (scheme == "https" && p == "443") {
		host = strings.TrimSuffix(host, ":"+p)
	}
	return scheme + "://" + host, nil
}

// publicOrigins normalizes Config.PublicOrigins and adds PublicURL's origin. It panics on
// an invalid one, as New does on other unusable configurations (convod checks its flags
// with NormalizeOrigin first).
func publicOrigins(cfg Config) []string {
	var out []string
	for _, o := range cfg.PublicOrigins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			panic("server: Config.PublicOrigins: " + err.Error())
		}
		out = append(out, n)
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err != nil {
			panic(fmt.Sprintf("server: Config.PublicURL %q is not a URL", cfg.PublicURL))
		}
		n, err := originOf(u, cfg.PublicURL)
		if err != nil {
			panic("server: Config.PublicURL: " + err.Error())
		}
		out = append(out, n)
	}
	return out
}

// publicHosts are the host names of origins, as hostName gives them.
func publicHosts(origins []string) map[string]bool {
	hosts := make(map[string]bool, len(origins))
	for _, o := range origins {
		_, host, _ := strings.Cut(o, "://")
		hosts[hostName(host)] = true
	}
	return hosts
}

// hostName is the host name of a Host header (host[:port]): lower case, without port,
// brackets or a final dot.
func hostName(hostport string) string {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	return strings.TrimSuffix(strings.ToLower(strings.Trim(h, "[]")), ".")
}

// hostAllowed reports whether a request for host is addressed to this server. The port
// does not matter: rebinding needs a name the attacker controls, whatever the port.
func (s *Server) hostAllowed(host string) bool {
	name := hostName(host)
	switch {
	case name == "":
		return false
	case net.ParseIP(name) != nil, name == "localhost", strings.HasSuffix(name, ".localhost"):
		return true
	}
	return s.publicHosts[name]
}

// checkHost refuses, on every route, a request whose Host is not this server's (hostAllowed)
// with HTTP 421 and CodeMisdirected, in the error format of the route (the admin API's and
// /metrics' own, the {"error": …} of the others).
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.hostAllowed(r.Host) {
			s.log.Info("request refused: host not served", "host", wire.Clip(r.Host), "path", wire.Clip(r.URL.Path), "remote", r.RemoteAddr)
			if e := hostRefusal(r); strings.HasPrefix(r.URL.Path, "/v1/admin/") || r.URL.Path == "/metrics" {
				writeAdminError(w, e)
			} else {
				writeHTTPError(w, http.StatusMisdirectedRequest, e)
			}
			return
		}
		next.ServeHTTP(w, r)
	})
}

// hostRefusal says which setting would make this server answer for the request's host.
func hostRefusal(r *http.Request) *wire.Error {
	return wire.Errorf(wire.CodeMisdirected,
		"this convo server does not answer for host %q: give the origin clients reach it at in its public origins "+
			"(convod --public-origins=%s or CONVO_PUBLIC_ORIGINS, with the scheme browsers use, e.g. https:// behind a TLS proxy); "+
			"IP addresses and localhost are always answered",
		r.Host, requestOrigin(r))
}

// requestOrigin is the origin the request reached this server at: its scheme (https when
// it came over TLS) and its Host.
func requestOrigin(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if o, err := NormalizeOrigin(scheme + "://" + r.Host); err == nil {
		return o
	}
	return ""
}

// originAllowed applies the origin rule of the WebSocket and media uploads: no Origin
// (native clients), the request's own origin or one of PublicOrigins (scheme, host and port
// alike), or a match of Config.AllowedOrigins.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	o, err := NormalizeOrigin(origin)
	if err != nil {
		return false
	}
	if o == requestOrigin(r) || slices.Contains(s.publicOrigins, o) {
		return true
	}
	scheme, host, _ := strings.Cut(o, "://")
	for _, p := range s.cfg.AllowedOrigins {
		if allowedOriginMatch(p, scheme, host) {
			return true
		}
	}
	return false
}

// allowedOriginMatch matches an origin against an AllowedOrigins pattern: a host pattern
// (path.Match syntax, with the port when not the default), optionally preceded by the one
// scheme it allows ("https://*.example.com"); without one it allows http and https.
func allowedOriginMatch(pattern, scheme, host string) bool {
	pattern = strings.ToLower(pattern)
	if ps, ph, ok := strings.Cut(pattern, "://"); ok {
		if ps != scheme {
			return false
		}
		pattern = ph
	}
	ok, _ := path.Match(pattern, host)
	return ok
}

// originRefusal is the error a page from a disallowed origin gets, on the WebSocket (in a bye)
// and from the media endpoints: it names the setting that would allow it.
func originRefusal(origin string) *wire.Error {
	host := origin
	if u, err := url.Parse(origin); err == nil && u.Host != "" {
		host = u.Host
	}
	return wire.Errorf(wire.CodeForbidden,
		"this convo server does not accept pages from origin %q: list it in the server's allowed origins (convod --allowed-origins=%s or CONVO_ALLOWED_ORIGINS=%s)",
		origin, host, host)
}
