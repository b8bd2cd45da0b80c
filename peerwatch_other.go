//go:build !linux

package polyrpc

import "net"

// peerGone cannot tell here.
func peerGone(net.Conn) (gone, ok bool) { return false, false }
