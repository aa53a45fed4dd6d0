package server

import "github.com/convo-sdk/convo/wire"

// sessionUpdateToken renews the connection's token: it must verify like a hello token and
// name the same identity; the connection then lives until the new token's Deadline.
func (s *Server) sessionUpdateToken(c *call, a wire.UpdateTokenArgs) (any, error) {
	claims, err := s.cfg.Keys.Verify(a.Token)
	if err != nil {
		return nil, err
	}
	if claims.Identity != c.identity {
		return nil, wire.Errorf(wire.CodeTokenIdentity, "the new token is for %q but this connection is %q; connect anew to change identity", claims.Identity, c.identity)
	}
	c.conn.renewed(claims.Deadline())
	return wire.UpdateTokenResult{TokenExpires: claims.ExpiresAt.UnixMilli()}, nil
}
