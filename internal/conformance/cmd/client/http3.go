package main

import (
	"crypto/tls"
	"net/http"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
)

// newH3Transport returns an HTTP/3 transport (quic-go) with the QUIC
// configuration of the conformance suite's reference client. Unlike the
// reference client, it needs no wrapper to map stream errors after a
// canceled or expired context to the context's error: quic-go v0.65 and
// connect-go v1.21 pass the cancellation and deadline cases without one.
func newH3Transport(conf *tls.Config) http.RoundTripper {
	return &http3.Transport{
		DisableCompression: true,
		TLSClientConfig:    conf,
		QUICConfig:         &quic.Config{MaxIdleTimeout: 20 * time.Second, KeepAlivePeriod: 5 * time.Second},
	}
}
