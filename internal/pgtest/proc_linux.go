package pgtest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"runtime"
	"strconv"
	"syscall"
)

// account is who runs PostgreSQL. PostgreSQL refuses to run as root, so a root process
// (tests on CI) runs it as the postgres system user that Debian's package creates; anyone
// else runs it as themselves.
type account struct {
	cred     *syscall.Credential // nil: as this process
	uid, gid int
}

func serverAccount() (account, error) {
	if os.Geteuid() != 0 {
		return account{uid: os.Geteuid(), gid: os.Getegid()}, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return account{}, fmt.Errorf("pgtest: running as root, which PostgreSQL refuses, and there is no postgres user to run it as (the postgresql package creates it): %w", err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return account{}, fmt.Errorf("pgtest: postgres user has uid %q, gid %q", u.Uid, u.Gid)
	}
	return account{cred: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, uid: uid, gid: gid}, nil
}

// procAttr runs a program as the account in a process group of its own, so that Stop can
// kill the postmaster and every backend at once. With dieWithParent the kernel sends the
// program SIGQUIT (PostgreSQL's immediate shutdown) when this process dies, however it dies.
func (a account) procAttr(dieWithParent bool) *syscall.SysProcAttr {
	attr := &syscall.SysProcAttr{Credential: a.cred, Setpgid: true}
	if dieWithParent {
		attr.Pdeathsig = syscall.SIGQUIT
	}
	return attr
}

// startTied starts cmd from an OS thread that lives until cmd ends: the parent-death
// signal fires when the thread that forked the program exits, and the Go runtime may retire
// an unlocked thread at any time. The returned channel gets cmd.Wait's result.
func startTied(cmd *exec.Cmd) (<-chan error, error) {
	started := make(chan error, 1)
	exited := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with this goroutine
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		exited <- cmd.Wait()
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return exited, nil
}

// killGroup kills every process in the group led by pid.
func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL) // ESRCH: already gone
}

// alive reports whether a process with that pid runs. A zombie (dead, not yet reaped by
// whoever inherited it) does not count.
func alive(pid int) bool {
	if pid <= 0 || syscall.Kill(pid, 0) == syscall.ESRCH {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc: trust kill
	}
	// The state follows the parenthesised command name: "pid (comm) S ...".
	i := bytes.LastIndexByte(stat, ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] != 'Z'
}

// interrupt asks the postmaster for a fast shutdown: disconnect clients, checkpoint, exit.
func interrupt(p *os.Process) error { return p.Signal(syscall.SIGINT) }
