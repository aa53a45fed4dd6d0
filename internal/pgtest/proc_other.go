//go:build !linux

package pgtest

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// The throwaway server relies on Linux process controls (parent-death signal, credentials).

type account struct{ uid, gid int }

var errLinuxOnly = errors.New("pgtest: runs PostgreSQL on Linux only")

func serverAccount() (account, error) { return account{}, errLinuxOnly }

func (a account) procAttr(bool) *syscall.SysProcAttr { return nil }

func startTied(*exec.Cmd) (<-chan error, error) { return nil, errLinuxOnly }

func killGroup(int) {}

func alive(int) bool { return false }

func interrupt(p *os.Process) error { return p.Kill() }
