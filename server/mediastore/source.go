package mediastore

import (
	"errors"
	"fmt"
	"io"
	"syscall"
)

// source counts what an upload's reader yields and keeps its error, so that a failed Put
// can tell the uploader's fault (a cut connection, a body too large) from the store's.
type source struct {
	r   io.Reader
	n   int64
	err error
}

func (s *source) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) {
		s.err = err
	}
	return n, err
}

// blame returns the reader's own error when it had one, else err as the store's (failed).
func (s *source) blame(err error) error {
	if s.err != nil {
		return s.err
	}
	return failed(err)
}

// failed marks an error of the store's own: ErrFull for a full disk, else ErrUnavailable.
func failed(err error) error {
	if errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("%w: %v", ErrFull, err)
	}
	return fmt.Errorf("%w: %v", ErrUnavailable, err)
}
