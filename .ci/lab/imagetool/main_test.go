package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, body := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func layerDigests(t *testing.T, img v1.Image) []v1.Hash {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var out []v1.Hash
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// Two images on one userland share its layer byte for byte (containerd keeps it once), and
// the archive written and read back keeps every layer in order.
func TestImagesOnOneDirectoryShareItsLayer(t *testing.T) {
	base := tree(t, map[string]string{"etc/passwd": "root:x:0:0::/root:/bin/sh\n", "bin/sh": "#!"})
	one := tree(t, map[string]string{"agnhost": "1"})
	two := tree(t, map[string]string{"agnhost": "2"})
	a, err := build([]string{base, one})
	if err != nil {
		t.Fatal(err)
	}
	b, err := build([]string{base, two})
	if err != nil {
		t.Fatal(err)
	}
	da, db := layerDigests(t, a), layerDigests(t, b)
	if len(da) != 2 || len(db) != 2 {
		t.Fatalf("want 2 layers each, got %d and %d", len(da), len(db))
	}
	if da[0] != db[0] {
		t.Errorf("the shared userland differs: %s vs %s", da[0], db[0])
	}
	if da[1] == db[1] {
		t.Errorf("different top layers have one digest %s", da[1])
	}

	out := filepath.Join(t.TempDir(), "a.tar")
	ref, _ := name.NewTag("example.test/a:1", name.StrictValidation)
	if err := tarball.WriteToFile(out, ref, a); err != nil {
		t.Fatal(err)
	}
	back, err := tarball.ImageFromPath(out, &ref)
	if err != nil {
		t.Fatal(err)
	}
	dback := layerDigests(t, back)
	if len(dback) != 2 || dback[0] != da[0] || dback[1] != da[1] {
		t.Errorf("archive layers %v, built %v", dback, da)
	}
}

// The same directory gives the same layer on every build (fixed times, name order, root owner).
func TestALayerIsTheSameBytesEveryTime(t *testing.T) {
	dir := tree(t, map[string]string{"b": "2", "a/x": "1"})
	first, err := build([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Join(dir, "b"), epoch.AddDate(1, 0, 0), epoch.AddDate(1, 0, 0)); err != nil {
		t.Fatal(err)
	}
	again, err := build([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if f, g := layerDigests(t, first), layerDigests(t, again); len(f) != 1 || f[0] != g[0] {
		t.Errorf("layer changed between builds: %v vs %v", f, g)
	}
}
