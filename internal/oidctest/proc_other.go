//go:build !linux

package oidctest

import (
	"os"
	"os/exec"
)

// terminate asks the provider to shut down; where it cannot be delivered, stop
// kills the provider.
var terminate = os.Interrupt

func setProcAttr(*exec.Cmd) {}
