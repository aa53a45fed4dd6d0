package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The same /proc readings benchreport takes of convod (server.go cpuSnapshot, server_nodes.go
// rss), taken here of the Centrifugo process.

type cpuTimes struct {
	at                    time.Time
	server, self, machine time.Duration
}

// clockTick is USER_HZ, the unit of /proc's CPU times.
const clockTick = 10 * time.Millisecond

func cpuSnapshot(pid int) cpuTimes {
	t := cpuTimes{at: time.Now()}
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 12 {
			ut, _ := strconv.ParseInt(fields[11], 10, 64)
			st, _ := strconv.ParseInt(fields[12], 10, 64)
			t.server = time.Duration(ut+st) * clockTick
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		t.self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		for i, v := range strings.Fields(line)[1:] {
			n, _ := strconv.ParseInt(v, 10, 64)
			if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest time is already in user
				continue
			}
			t.machine += time.Duration(n) * clockTick
		}
	}
	return t
}

func (a cpuTimes) usage(b cpuTimes) CPUUse {
	wall := b.at.Sub(a.at).Seconds()
	if wall <= 0 {
		return CPUUse{}
	}
	u := CPUUse{Server: (b.server - a.server).Seconds() / wall, Load: (b.self - a.self).Seconds() / wall}
	u.Other = max(0, (b.machine-a.machine).Seconds()/wall-u.Server-u.Load)
	return u
}

// rss is the process's resident set size in bytes (VmRSS of /proc/PID/status).
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// processAlive: the process exists and is not a zombie.
func processAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}
