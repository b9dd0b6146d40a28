package oidctest

import (
	"os/exec"
	"syscall"
)

// terminate asks the provider to shut down.
var terminate = syscall.SIGTERM

// setProcAttr makes the kernel kill the provider if the test binary dies
// without cleaning up (a panic, a timeout), so no server outlives its test.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
