package polyrpc

import (
	"net"

	"golang.org/x/sys/unix"
)

// TCP states of Linux's TCP_INFO in which the peer has closed its side.
const (
	tcpClose     = 7
	tcpCloseWait = 8
	tcpLastAck   = 9
	tcpClosing   = 11
)

// peerGone reports whether the client of c has closed its side of the TCP
// connection; ok is false when that cannot be told.
func peerGone(c net.Conn) (gone, ok bool) {
	tc := tcpConn(c)
	if tc == nil {
		return false, false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return false, false
	}
	var info *unix.TCPInfo
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		return true, true // the connection is closed
	}
	if ierr != nil {
		return false, false
	}
	switch info.State {
	case tcpClose, tcpCloseWait, tcpLastAck, tcpClosing:
		return true, true
	}
	return false, true
}
