package loadtest

import "syscall"

// childAttr makes a child die with the load tool, so an interrupted run
// leaves no Patchbay or receiver behind.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
