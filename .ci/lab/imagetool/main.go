// imagetool writes a container image as a docker-archive tarball that `ctr images import`
// and `docker load` take, from directories of files, one layer each (the first -dir is the
// bottom layer): the lab's own images (pause, CoreDNS, the test images) without a registry
// or a Docker engine. A layer is the same bytes whenever its directory is, so images built
// on one userland share that layer, and containerd stores and unpacks it once per node.
//
//	imagetool -tag registry.k8s.io/pause:3.10.2 -dir ROOTFS -entrypoint /pause -out pause.tar
//	imagetool -tag ...agnhost:2.63.0 -dir USERLAND -dir AGNHOST -out agnhost.tar
//
// -merge writes the images of several such archives into one, each layer once (as `docker
// save` of several images does): a node then receives, hashes and reads the layers those
// images share once, not once per image.
//
//	imagetool -merge agnhost.tar -merge nginx.tar -out test-images.tar
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, " ") }
func (l *list) Set(s string) error { *l = append(*l, s); return nil }

// epoch is the fixed modification time of every file, so the same input gives the same image.
var epoch = time.Unix(1700000000, 0).UTC()

// layerTar packs dir (symlinks kept, owned by root) in name order.
func layerTar(dir string) ([]byte, error) {
	var paths []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		info, err := os.Lstat(p)
		if err != nil {
			return nil, err
		}
		link := ""
		if info.Mode()&fs.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return nil, err
			}
		}
		hdr, err := tar.FileInfoHeader(info, link)
		if err != nil {
			return nil, err
		}
		rel, _ := filepath.Rel(dir, p)
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = 0, 0, "", ""
		hdr.ModTime, hdr.AccessTime, hdr.ChangeTime = epoch, time.Time{}, time.Time{}
		hdr.Format = tar.FormatPAX
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if info.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return nil, err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			if err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// build stacks one layer per directory, the first at the bottom.
func build(dirs []string) (v1.Image, error) {
	img := empty.Image
	for _, dir := range dirs {
		data, err := layerTar(dir)
		if err != nil {
			return nil, err
		}
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			return nil, err
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// merge reads every image of each archive under each of its names; a name given twice to
// different images is refused. (The order of the images in the archive written is the
// library's, so it is not the same bytes on every build; the images in it are.)
func merge(archives []string) (map[name.Reference]v1.Image, error) {
	images := map[name.Reference]v1.Image{}
	seen := map[string]v1.Hash{}
	byDigest := map[v1.Hash]v1.Image{}
	for _, file := range archives {
		opener := func() (io.ReadCloser, error) { return os.Open(file) }
		manifest, err := tarball.LoadManifest(opener)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if len(manifest) == 0 {
			return nil, fmt.Errorf("%s: holds no image", file)
		}
		for _, desc := range manifest {
			if len(desc.RepoTags) == 0 {
				return nil, fmt.Errorf("%s: an image without a name (RepoTags is empty)", file)
			}
			for _, t := range desc.RepoTags {
				tag, err := name.NewTag(t, name.StrictValidation)
				if err != nil {
					return nil, fmt.Errorf("%s: tag %q: %w", file, t, err)
				}
				img, err := tarball.Image(opener, &tag)
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %w", file, t, err)
				}
				d, err := img.Digest()
				if err != nil {
					return nil, fmt.Errorf("%s: %s: %w", file, t, err)
				}
				if prev, ok := seen[tag.String()]; ok && prev != d {
					return nil, fmt.Errorf("%s: %s is also in an earlier archive with another digest (%s, here %s)", file, t, prev, d)
				}
				seen[tag.String()] = d
				// one value per image, so the writer files an image named twice once, under both names
				if first, ok := byDigest[d]; ok {
					img = first
				}
				byDigest[d] = img
				images[tag] = img
			}
		}
	}
	return images, nil
}

func main() {
	var entrypoint, cmd, env, dirs, merges list
	tag := flag.String("tag", "", "image reference, e.g. registry.k8s.io/pause:3.10.2")
	flag.Var(&dirs, "dir", "directory whose contents become a layer of the image's file system (repeat: bottom first)")
	user := flag.String("user", "", "user the image runs as (empty: root)")
	out := flag.String("out", "", "docker-archive tarball to write")
	flag.Var(&entrypoint, "entrypoint", "entrypoint word (repeat)")
	flag.Var(&cmd, "cmd", "cmd word (repeat)")
	flag.Var(&env, "env", "NAME=VALUE (repeat)")
	flag.Var(&merges, "merge", "docker-archive whose images go into -out, each layer once (repeat; not with -tag or -dir)")
	flag.Parse()
	if len(merges) > 0 {
		if *tag != "" || len(dirs) > 0 || *out == "" {
			flag.Usage()
			os.Exit(2)
		}
		images, err := merge(merges)
		if err != nil {
			log.Fatal(err)
		}
		if err := tarball.MultiRefWriteToFile(*out, images); err != nil {
			log.Fatal(err)
		}
		var lines []string
		for ref, img := range images {
			d, _ := img.Digest()
			lines = append(lines, fmt.Sprintf("%s %s", ref, d))
		}
		sort.Strings(lines)
		fmt.Println(strings.Join(lines, "\n"))
		return
	}
	if *tag == "" || len(dirs) == 0 || *out == "" {
		flag.Usage()
		os.Exit(2)
	}
	ref, err := name.NewTag(*tag, name.StrictValidation)
	if err != nil {
		log.Fatalf("tag %q: %v", *tag, err)
	}
	img, err := build(dirs)
	if err != nil {
		log.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		log.Fatal(err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", "amd64", v1.Time{Time: epoch}
	cf.Config.Entrypoint, cf.Config.Cmd, cf.Config.User = entrypoint, cmd, *user
	cf.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, env...)
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		log.Fatal(err)
	}
	if err := tarball.WriteToFile(*out, ref, img); err != nil {
		log.Fatal(err)
	}
	d, _ := img.Digest()
	fmt.Printf("%s %s\n", ref, d)
}
