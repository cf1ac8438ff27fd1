package main

import (
	"archive/tar"
	"crypto/rand"
	"io"
	"os"
	"path/filepath"
	"strings"
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

// archive writes img under tag into a docker-archive in a temporary directory.
func archive(t *testing.T, tag string, img v1.Image) string {
	t.Helper()
	ref, err := name.NewTag(tag, name.StrictValidation)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "image.tar")
	if err := tarball.WriteToFile(out, ref, img); err != nil {
		t.Fatal(err)
	}
	return out
}

// tarEntries counts the entries of a tar file by name.
func tarEntries(t *testing.T, file string) map[string]int {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[string]int{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return counts
		}
		if err != nil {
			t.Fatal(err)
		}
		counts[hdr.Name]++
	}
}

// Three archives (two images on one userland, one of them under two names) merge into one
// that holds every name with its image unchanged and the shared layer once.
func TestMergeKeepsEveryImageAndEachLayerOnce(t *testing.T) {
	noise := make([]byte, 1<<20) // does not compress, as a userland's binaries hardly do
	if _, err := rand.Read(noise); err != nil {
		t.Fatal(err)
	}
	base := tree(t, map[string]string{"usr/lib/big": string(noise)})
	a, err := build([]string{base, tree(t, map[string]string{"agnhost": "1"})})
	if err != nil {
		t.Fatal(err)
	}
	b, err := build([]string{base, tree(t, map[string]string{"nginx": "2"})})
	if err != nil {
		t.Fatal(err)
	}
	files := []string{archive(t, "example.test/a:1", a), archive(t, "example.test/b:1", b), archive(t, "example.test/b:2", b)}
	images, err := merge(files)
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != 3 {
		t.Fatalf("want 3 names, got %d", len(images))
	}
	out := filepath.Join(t.TempDir(), "merged.tar")
	if err := tarball.MultiRefWriteToFile(out, images); err != nil {
		t.Fatal(err)
	}

	want := map[string]v1.Image{"example.test/a:1": a, "example.test/b:1": b, "example.test/b:2": b}
	for tag, img := range want {
		ref, _ := name.NewTag(tag, name.StrictValidation)
		back, err := tarball.ImageFromPath(out, &ref)
		if err != nil {
			t.Fatalf("%s: %v", tag, err)
		}
		got, _ := back.Digest()
		built, _ := img.Digest()
		if got != built {
			t.Errorf("%s: digest %s in the merged archive, %s built", tag, got, built)
		}
	}
	manifest, err := tarball.LoadManifest(func() (io.ReadCloser, error) { return os.Open(out) })
	if err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 2 {
		t.Errorf("want 2 images in manifest.json (b under two names), got %d", len(manifest))
	}
	shared := layerDigests(t, a)[0]
	entries := tarEntries(t, out)
	n := 0
	for entry, c := range entries {
		if strings.HasPrefix(entry, shared.Hex) {
			n += c
		}
		if c > 1 {
			t.Errorf("%s is in the merged archive %d times", entry, c)
		}
	}
	if n != 1 {
		t.Errorf("the shared layer %s is in the merged archive %d times, want 1", shared.Hex, n)
	}
	var sum int64
	for _, f := range files {
		st, _ := os.Stat(f)
		sum += st.Size()
	}
	if st, _ := os.Stat(out); st.Size() >= sum/2 {
		t.Errorf("merged archive %d bytes, the three archives %d: the shared layer was not written once", st.Size(), sum)
	}
}

// One name for two different images is an error that names the archive.
func TestMergeRefusesOneNameForTwoImages(t *testing.T) {
	a, err := build([]string{tree(t, map[string]string{"x": "1"})})
	if err != nil {
		t.Fatal(err)
	}
	b, err := build([]string{tree(t, map[string]string{"x": "2"})})
	if err != nil {
		t.Fatal(err)
	}
	second := archive(t, "example.test/x:1", b)
	_, err = merge([]string{archive(t, "example.test/x:1", a), second})
	if err == nil || !strings.Contains(err.Error(), second) || !strings.Contains(err.Error(), "another digest") {
		t.Fatalf("want an error naming %s, got %v", second, err)
	}
}
