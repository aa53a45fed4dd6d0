package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// backupCmd fetches a backup (POST /v1/admin/backup) into --out. The file appears whole or
// not at all: the answer goes to a temporary file beside it, checked (length, SQLite
// header), synced and renamed over --out.
func backupCmd(args []string, out io.Writer) error {
	c := newAdminCmd("backup", out)
	dst := c.fs.String("out", "", "file to write the backup to (required); an existing file is replaced once the new one is complete")
	timeout := c.fs.Duration("timeout", time.Hour, "how long taking and downloading the backup may take")
	if _, err := c.parse(args); err != nil {
		return err
	}
	if *dst == "" {
		return errors.New("backup: --out FILE is required")
	}
	req, err := c.request(http.MethodPost, "/backup", nil)
	if err != nil {
		return err
	}
	res, err := (&http.Client{Timeout: *timeout}).Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		return fmt.Errorf("backup: %w", errorAnswer(res, b))
	}
	n, err := writeAtomically(*dst, res.Body, res.ContentLength)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	b, err := json.Marshal(map[string]any{"out": *dst, "bytes": n})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

// writeAtomically copies r (want bytes, or any number when want < 0) into a temporary
// file beside path, checks that it is an SQLite database, syncs it and renames it to path.
func writeAtomically(path string, r io.Reader, want int64) (n int64, err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if n, err = io.Copy(tmp, r); err != nil {
		return n, fmt.Errorf("the download broke off after %d bytes: %w", n, err)
	}
	if want >= 0 && n != want {
		return n, fmt.Errorf("the server announced %d bytes and sent %d", want, n)
	}
	head := make([]byte, len(sqliteMagic))
	if _, err := tmp.ReadAt(head, 0); err != nil || !bytes.Equal(head, []byte(sqliteMagic)) {
		return n, errors.New("the answer is not an SQLite database file")
	}
	if err := tmp.Sync(); err != nil {
		return n, err
	}
	if err := tmp.Close(); err != nil {
		return n, err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return n, err
	}
	// The rename is durable once the folder is synced.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		err = d.Sync()
		d.Close()
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
