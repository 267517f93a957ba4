// Package endpoint opens the daemon's control listeners (the gRPC API and
// the debug HTTP endpoint) and the credentials that guard them: a listen
// address is either host:port (TCP, optionally TLS with client
// certificates) or unix:/path (a unix socket with mode 0660 and a chosen
// group, so that file permissions decide who may connect).
package endpoint
