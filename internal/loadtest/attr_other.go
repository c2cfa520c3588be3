//go:build !linux

package loadtest

import "syscall"

// childAttr is nil where there is no parent-death signal.
func childAttr() *syscall.SysProcAttr { return nil }
