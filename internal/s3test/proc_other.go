//go:build !linux

package s3test

import (
	"os"
	"os/exec"
)

// terminate asks the server to shut down; where it cannot be delivered, stop
// kills the server.
var terminate = os.Interrupt

func setProcAttr(*exec.Cmd) {}
