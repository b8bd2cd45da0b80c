//go:build unix

package polyrpc

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// peekConn waits for c to hold bytes and copies them into buf without
// reading them, as far as the socket allows it (ok is false otherwise). A
// closed connection is io.EOF.
func peekConn(c net.Conn, buf []byte) (n int, ok bool, err error) {
	sc, isSyscall := c.(syscall.Conn)
	if !isSyscall {
		return 0, false, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	var perr error
	err = rc.Read(func(fd uintptr) bool {
		n, _, perr = syscall.Recvfrom(int(fd), buf, syscall.MSG_PEEK)
		return !errors.Is(perr, syscall.EAGAIN) // else wait for bytes
	})
	switch {
	case err != nil:
		return 0, true, err
	case errors.Is(perr, syscall.ENOTSOCK), errors.Is(perr, syscall.EOPNOTSUPP):
		return 0, false, nil
	case perr != nil:
		return 0, true, perr
	case n == 0:
		return 0, true, io.EOF
	}
	return n, true, nil
}
