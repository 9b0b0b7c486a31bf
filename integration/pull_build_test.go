package integration

import (
	"archive/tar"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	imgspecs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/crypto/bcrypt"
)

// ociBlobs is an image's blobs by digest, and how to add one.
type ociBlobs map[digest.Digest][]byte

func (b ociBlobs) add(mediaType string, data []byte) ocispec.Descriptor {
	d := digest.FromBytes(data)
	b[d] = data
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(data))}
}

// manifest adds the config and manifest of an image for linux/arch with these uncompressed layers,
// busybox's environment and sh as its command, and returns the manifest's descriptor.
func (b ociBlobs) manifest(arch string, layers ...[]byte) ocispec.Descriptor {
	img := ocispec.Image{
		Platform: ocispec.Platform{Architecture: arch, OS: "linux"},
		Config:   ocispec.ImageConfig{Env: []string{"PATH=/bin", "IMG=busybox"}, Cmd: []string{"sh"}},
		RootFS:   ocispec.RootFS{Type: "layers"},
	}
	m := ocispec.Manifest{Versioned: imgspecs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest}
	for _, l := range layers {
		img.RootFS.DiffIDs = append(img.RootFS.DiffIDs, digest.FromBytes(l))
		m.Layers = append(m.Layers, b.add(ocispec.MediaTypeImageLayer, l))
	}
	config, _ := json.Marshal(img)
	m.Config = b.add(ocispec.MediaTypeImageConfig, config)
	data, _ := json.Marshal(m)
	return b.add(ocispec.MediaTypeImageManifest, data)
}

// ociTar writes an OCI layout tarball of an image named name for linux/arch with these layers, as
// imageTar does for busybox, and returns its path.
func ociTar(t *testing.T, name, arch string, layers ...[]byte) string {
	t.Helper()
	blobs := ociBlobs{}
	return layoutTar(t, filepath.Join(t.TempDir(), "image.tar"), name, blobs, blobs.manifest(arch, layers...))
}

// randomLayer is a layer tar holding one file of size random, so incompressible, bytes.
func randomLayer(t *testing.T, name string, size int64) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(tw, rand.Reader, size); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tlsFiles writes a CA and a certificate for 127.0.0.1 that it signed to dir, as ca.pem, cert.pem and
// key.pem, and returns their paths.
func tlsFiles(t *testing.T, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "corral pull test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key1, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key1.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key1)
	ca, cert, key = filepath.Join(dir, "ca.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	for path, block := range map[string]*pem.Block{
		ca: {Type: "CERTIFICATE", Bytes: caDER}, cert: {Type: "CERTIFICATE", Bytes: der}, key: {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return ca, cert, key
}

// htpasswdFile writes an htpasswd file with user's bcrypt hash to dir and returns its path.
func htpasswdFile(t *testing.T, dir, user, password string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "htpasswd")
	if err := os.WriteFile(path, []byte(user+":"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeHostsToml writes dir/host/hosts.toml and returns dir.
func writeHostsToml(t *testing.T, dir, host, hostsToml string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, host), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, host, "hosts.toml"), []byte(hostsToml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
