package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"

	"mvirt-net/rpc/netpb"
	"mvirt-net/tests/daemon"
)

// testCA signs certificates for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newCA(t *testing.T, name string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &testCA{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// issue signs a leaf certificate for a server at 127.0.0.1 or for a
// client, and returns it and its key as PEM.
func (ca *testCA) issue(t *testing.T, name string, server bool) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	if server {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func writeFile(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// tlsDial is the dial option of a client trusting ca and presenting cert
// (none if nil).
func tlsDial(t *testing.T, ca *testCA, cert, key []byte) grpc.DialOption {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.cert)
	c := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert != nil {
		pair, err := tls.X509KeyPair(cert, key)
		if err != nil {
			t.Fatal(err)
		}
		c.Certificates = []tls.Certificate{pair}
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(c))
}

func TestTLSNeedsAClientCertificateFromTheCA(t *testing.T) {
	dir := t.TempDir()
	ca, rogue := newCA(t, "mvirt test CA"), newCA(t, "someone else's CA")
	srvCert, srvKey := ca.issue(t, "mvirt-net", true)
	cliCert, cliKey := ca.issue(t, "control plane", false)
	badCert, badKey := rogue.issue(t, "intruder", false)
	files := map[string]string{}
	for name, b := range map[string][]byte{
		"ca.pem": ca.pem, "server.pem": srvCert, "server.key": srvKey,
		"client.pem": cliCert, "client.key": cliKey, "bad.pem": badCert, "bad.key": badKey,
	} {
		files[name] = writeFile(t, dir, name, b)
	}

	// Starting at all means the health check got through with the
	// right client certificate.
	d := daemon.StartWith(t, daemon.NewDirs(t), daemon.Options{
		Dial: []grpc.DialOption{tlsDial(t, ca, cliCert, cliKey)},
		Args: []string{"--tls-cert", files["server.pem"], "--tls-key", files["server.key"], "--tls-client-ca", files["ca.pem"]},
	})
	mustNetwork(t, d.Client, dual("prod"))
	if strings.Contains(d.Log(), "INSECURE") {
		t.Errorf("loopback TLS listener warned:\n%s", d.Log())
	}

	for name, dial := range map[string]grpc.DialOption{
		"no certificate":           tlsDial(t, ca, nil, nil),
		"another CA's certificate": tlsDial(t, ca, badCert, badKey),
	} {
		conn, err := grpc.NewClient(d.Addr, dial)
		if err != nil {
			t.Fatal(err)
		}
		_, err = netpb.NewNetServiceClient(conn).ListNetworks(ctx(t), &netpb.ListNetworksRequest{})
		_ = conn.Close()
		if status.Code(err) != codes.Unavailable {
			t.Errorf("client with %s: %v, want Unavailable", name, err)
		}
	}

	mvirt, err := daemon.Mvirt()
	if err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) (string, error) {
		out, err := exec.Command(mvirt, append([]string{"--server", d.Addr, "--tls-ca", files["ca.pem"]}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := cli("--tls-cert", files["client.pem"], "--tls-key", files["client.key"], "network", "list"); err != nil || !strings.Contains(out, "prod") {
		t.Errorf("CLI with the client certificate: %v\n%s", err, out)
	}
	if out, err := cli("network", "list"); err == nil || strings.Contains(out, "prod") {
		t.Errorf("CLI without a client certificate listed the networks:\n%s", out)
	}
}
