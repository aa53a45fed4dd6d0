// Media over HTTP. Uploads carry the access token in the Authorization header (never the
// URL); content is fetched through short-lived URLs signed with HMAC-SHA256, which the
// media.urls op hands to users who may read the media.

package server

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/convo-sdk/convo/server/mediastore"
	"github.com/convo-sdk/convo/server/store"
	"github.com/convo-sdk/convo/wire"
)

// MediaURLTTL is how long a signed media URL stays valid.
const MediaURLTTL = 5 * time.Minute

const maxFilenameChars = 256

func writeHTTPError(w http.ResponseWriter, status int, e *wire.Error) {
	writeJSON(w, status, map[string]any{"error": e})
}

// cors checks the origin and, for a cross-origin request from an allowed one, sets the
// CORS headers. It writes a 403 and returns false for another origin.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Add("Vary", "Origin")
	if !s.originAllowed(r) {
		writeHTTPError(w, http.StatusForbidden, originRefusal(r.Header.Get("Origin")))
		return false
	}
	if o := r.Header.Get("Origin"); o != "" {
		w.Header().Set("Access-Control-Allow-Origin", o)
	}
	return true
}

func (s *Server) serveMediaPreflight(w http.ResponseWriter, r *http.Request) {
	if !s.cors(w, r) {
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
}

// sanitizeFilename keeps the last path element of a user's file name, without control or
// format characters (unicode.Cc, unicode.Cf: a right-to-left override would make
// "evil\u202Egpj.exe" display as "evilexe.jpg"), at most maxFilenameChars characters. It is
// metadata only: files are stored by sid.
func sanitizeFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = strings.ReplaceAll(name, `\`, "/")
	if i := strings.LastIndex(name, "/"); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == 0x2028 || r == 0x2029 {
			return -1
		}
		return r
	}, name)
	// Cut before trimming, so a cut never leaves trailing space (found by FuzzSanitizeFilename).
	if utf8.RuneCountInString(name) > maxFilenameChars {
		name = string([]rune(name)[:maxFilenameChars])
	}
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	return name
}

// serveMediaUpload stores the request body as a new media of the caller:
// POST /v1/media?filename=NAME&category=media|body|history, Authorization: Bearer TOKEN.
func (s *Server) serveMediaUpload(w http.ResponseWriter, r *http.Request) {
	s.limitBodyRead(w)
	if !s.cors(w, r) {
		return
	}
	q := r.URL.Query()
	if q.Has("token") || q.Has("access_token") {
		writeHTTPError(w, http.StatusBadRequest, wire.Errorf(wire.CodeBadRequest, "send the access token in the Authorization header, never in the URL"))
		return
	}
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="convo"`)
		writeHTTPError(w, http.StatusUnauthorized, wire.Errorf(wire.CodeTokenInvalid, "media uploads need the header Authorization: Bearer <access token>"))
		return
	}
	claims, err := s.cfg.Keys.Verify(strings.TrimSpace(tok))
	if err != nil {
		writeHTTPError(w, http.StatusUnauthorized, asWireError(err))
		return
	}
	if s.cfg.Media == nil {
		writeHTTPError(w, http.StatusServiceUnavailable, wire.Errorf(wire.CodeUnavailable, "this server stores no media (no media store configured)"))
		return
	}
	allowed := s.uploads.allow(claims.Identity)
	if allowed && s.uploads.rate > 0 {
		var err error
		if allowed, err = s.clusterTake(r.Context(), uploadBucket(claims.Identity), float64(s.uploads.rate), s.uploads.burst); err != nil {
			s.log.Warn("taking an upload token failed", "err", err)
			w.Header().Set("Retry-After", "10")
			writeHTTPError(w, http.StatusServiceUnavailable, wire.Errorf(wire.CodeUnavailable, "the database is unreachable; retry shortly"))
			return
		}
	}
	if !allowed {
		w.Header().Set("Retry-After", "10")
		writeHTTPError(w, http.StatusTooManyRequests, wire.Errorf(wire.CodeRateLimited,
			"too many uploads (at most %g a minute); retry in a moment", s.cfg.MediaUploadsPerMinute))
		return
	}
	category := q.Get("category")
	switch category {
	case "":
		category = wire.MediaCategoryMedia
	case wire.MediaCategoryMedia, wire.MediaCategoryBody, wire.MediaCategoryHistory:
	default:
		writeHTTPError(w, http.StatusBadRequest, wire.Errorf(wire.CodeBadRequest, "category must be %q, %q or %q, got %q",
			wire.MediaCategoryMedia, wire.MediaCategoryBody, wire.MediaCategoryHistory, category))
		return
	}
	ctype := r.Header.Get("Content-Type")
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	if _, _, err := mime.ParseMediaType(ctype); err != nil || len(ctype) > 256 {
		writeHTTPError(w, http.StatusBadRequest, wire.Errorf(wire.CodeBadRequest, "Content-Type %q is not a media type", ctype))
		return
	}
	max := s.cfg.MaxMediaBytes
	tooLarge := func() {
		writeHTTPError(w, http.StatusRequestEntityTooLarge, wire.Errorf(wire.CodeTooLarge, "a media file is at most %d bytes", max))
	}
	if r.ContentLength > max {
		tooLarge()
		return
	}
	m := store.MediaRecord{Owner: claims.Identity, Media: wire.Media{
		Sid: store.NewSid(store.PrefixMedia), Category: category, Filename: sanitizeFilename(q.Get("filename")),
		ContentType: ctype}}
	// The content is stored before the record, so no record ever names missing content.
	n, err := s.cfg.Media.Put(r.Context(), m.Sid, http.MaxBytesReader(w, r.Body, max), r.ContentLength, ctype)
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		tooLarge()
		return
	case errors.Is(err, mediastore.ErrFull):
		s.log.Warn("storing media failed: the disk is full", "store", s.cfg.Media.String(), "err", err)
		w.Header().Set("Retry-After", "10")
		writeHTTPError(w, http.StatusServiceUnavailable, errStorageFull())
		return
	case errors.Is(err, mediastore.ErrUnavailable):
		s.log.Error("storing media failed", "store", s.cfg.Media.String(), "err", err)
		w.Header().Set("Retry-After", "10")
		writeHTTPError(w, http.StatusServiceUnavailable, wire.Errorf(wire.CodeUnavailable,
			"the media store is unavailable, so the file was not stored; retry the upload in a moment"))
		return
	case err != nil:
		s.log.Info("reading media upload failed", "err", err)
		writeHTTPError(w, http.StatusBadRequest, wire.Errorf(wire.CodeBadRequest, "could not read the request body"))
		return
	}
	m.Size = n
	if err := s.cfg.Store.CreateMedia(r.Context(), m); err != nil {
		s.removeMediaFiles([]string{m.Sid})
		if we := storeOutage(err); we != nil {
			s.log.Warn("recording media failed: "+we.Message, "err", err)
			w.Header().Set("Retry-After", "10")
			writeHTTPError(w, http.StatusServiceUnavailable, we)
			return
		}
		s.log.Error("recording media failed", "err", err)
		writeHTTPError(w, http.StatusInternalServerError, wire.Errorf(wire.CodeInternal, "could not record the file"))
		return
	}
	s.log.Info("media uploaded", "identity", claims.Identity, "sid", m.Sid, "size", n)
	writeJSON(w, http.StatusCreated, m.Media)
}

// mediaSig signs a media sid and expiry.
func (s *Server) mediaSig(sid string, expires int64) string {
	mac := hmac.New(sha256.New, s.cfg.MediaKey)
	fmt.Fprintf(mac, "%s\n%d", sid, expires)
	return hex.EncodeToString(mac.Sum(nil))
}

// mediaURL is the signed content URL of a media, relative to base (scheme://host).
func (s *Server) mediaURL(base, sid string, expires int64) string {
	return fmt.Sprintf("%s/v1/media/%s/content?expires=%d&sig=%s", base, url.PathEscape(sid), expires, s.mediaSig(sid, expires))
}

// serveMediaContent serves a media's file to whoever holds a valid signed URL.
func (s *Server) serveMediaContent(w http.ResponseWriter, r *http.Request) {
	sid := r.PathValue("sid")
	q := r.URL.Query()
	expires, err := strconv.ParseInt(q.Get("expires"), 10, 64)
	if err != nil {
		writeHTTPError(w, http.StatusForbidden, wire.Errorf(wire.CodeForbidden, "this media URL is not signed; ask media.urls for one"))
		return
	}
	got, err := hex.DecodeString(q.Get("sig"))
	want, _ := hex.DecodeString(s.mediaSig(sid, expires))
	if err != nil || !hmac.Equal(got, want) {
		writeHTTPError(w, http.StatusForbidden, wire.Errorf(wire.CodeForbidden, "this media URL's signature is invalid"))
		return
	}
	if time.Now().Unix() > expires {
		writeHTTPError(w, http.StatusForbidden, wire.Errorf(wire.CodeForbidden, "this media URL has expired; ask media.urls for a new one"))
		return
	}
	m, err := s.cfg.Store.Media(r.Context(), sid)
	if errors.Is(err, store.ErrNotFound) || s.cfg.Media == nil {
		writeHTTPError(w, http.StatusNotFound, errMediaNotFound(sid))
		return
	}
	if err != nil {
		s.log.Error("loading media failed", "err", err)
		writeHTTPError(w, http.StatusInternalServerError, wire.Errorf(wire.CodeInternal, "could not load the media"))
		return
	}
	f, err := s.cfg.Media.Open(r.Context(), m.Sid)
	if errors.Is(err, mediastore.ErrNotFound) {
		s.log.Warn("media content missing", "sid", sid)
		writeHTTPError(w, http.StatusNotFound, errMediaNotFound(sid))
		return
	}
	if err != nil {
		s.log.Error("opening media failed", "sid", sid, "err", err)
		w.Header().Set("Retry-After", "10")
		writeHTTPError(w, http.StatusServiceUnavailable, wire.Errorf(wire.CodeUnavailable, "the media store is unavailable; retry in a moment"))
		return
	}
	defer f.Close()
	name := m.Filename
	if name == "" {
		name = m.Sid
	}
	h := w.Header()
	if o := r.Header.Get("Origin"); o != "" && s.originAllowed(r) {
		h.Set("Access-Control-Allow-Origin", o)
		h.Add("Vary", "Origin")
	}
	h.Set("Content-Type", m.ContentType)
	h.Set("Content-Disposition", "attachment; filename*=UTF-8''"+rfc5987(name))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Cache-Control", "private, max-age=300")
	http.ServeContent(w, r, "", m.DateCreated, f)
}

// rfc5987 percent-encodes a header parameter value (RFC 5987 attr-char stays as is).
func rfc5987(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$&+-.^_`|~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// httpBase is scheme://host of this server for URLs handed to a client: from
// Config.PublicURL when set, else from the request.
func (s *Server) httpBase(r *http.Request) string {
	if u, err := url.Parse(s.cfg.PublicURL); err == nil && u.Host != "" {
		scheme := "http"
		if u.Scheme == "wss" || u.Scheme == "https" {
			scheme = "https"
		}
		return scheme + "://" + u.Host
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// removeMediaFiles deletes the content of media whose records are gone. Content it cannot
// delete stays unreachable (no record names it).
func (s *Server) removeMediaFiles(sids []string) {
	if s.cfg.Media == nil {
		return
	}
	for _, sid := range sids {
		ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
		err := s.cfg.Media.Remove(ctx, sid)
		cancel()
		if err != nil {
			s.log.Warn("removing media content failed", "sid", sid, "err", err)
		}
	}
}
