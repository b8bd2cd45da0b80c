//go:build !unix

package polyrpc

import "net"

// peekConn is not available here: connections are sorted by reading.
func peekConn(net.Conn, []byte) (int, bool, error) { return 0, false, nil }
