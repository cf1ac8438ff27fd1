// Command containerd-judge loads rendered containerd config files the way containerd
// itself does at the pinned release — its own LoadConfig, then each plugin section decoded
// into the config type that plugin registers — and turns every "Ignoring unknown key"
// warning containerd would only log into an error. A plugin id that no built-in plugin
// registers is an error too, and runc runtime options are decoded strictly into runc's
// options type (where containerd would silently drop a misspelled SystemdCgroup).
//
// Usage: containerd-judge PATH…   Prints one JSON object per file: {"path","error",…}.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	runcoptions "github.com/containerd/containerd/api/types/runc/options"
	_ "github.com/containerd/containerd/v2/cmd/containerd/builtins"
	srvconfig "github.com/containerd/containerd/v2/cmd/containerd/server/config"
	"github.com/containerd/containerd/v2/version"
	"github.com/containerd/log"
	"github.com/containerd/plugin"
	"github.com/containerd/plugin/registry"
	"github.com/pelletier/go-toml/v2"
	"github.com/sirupsen/logrus"
)

type verdict struct {
	Path    string   `json:"path"`
	Error   string   `json:"error"`
	Version int      `json:"version"`
	Plugins []string `json:"plugins"`
	Address string   `json:"address"`
	// what containerd understood of the runc runtime options, for the test to compare
	SystemdCgroup *bool  `json:"systemdCgroup,omitempty"`
	BinaryName    string `json:"binaryName,omitempty"`
}

// unknownKeys collects containerd's own warnings about keys it ignores.
type unknownKeys struct{ found []string }

func (h *unknownKeys) Levels() []logrus.Level { return []logrus.Level{logrus.WarnLevel} }
func (h *unknownKeys) Fire(e *logrus.Entry) error {
	if strings.HasPrefix(e.Message, "Ignoring unknown key") {
		where := fmt.Sprint(e.Data["key"])
		if p, ok := e.Data["plugin"]; ok {
			where = fmt.Sprintf("%v: %s", p, where)
		}
		h.found = append(h.found, where)
	}
	return nil
}

func judge(path string) verdict {
	v := verdict{Path: path}
	hook := &unknownKeys{}
	logger := logrus.New()
	logger.SetOutput(os.Stderr)
	logger.AddHook(hook)
	ctx := log.WithLogger(context.Background(), logrus.NewEntry(logger))

	fail := func(err error) verdict { v.Error = err.Error(); return v }
	var cfg srvconfig.Config
	if err := srvconfig.LoadConfig(ctx, path, &cfg); err != nil {
		return fail(err)
	}
	v.Version, v.Address = cfg.Version, cfg.GRPC.Address
	if grpc, ok := cfg.Plugins["io.containerd.server.v1.grpc"].(map[string]any); ok {
		// version 4: the gRPC server is a plugin of its own
		v.Address, _ = grpc["address"].(string)
	}
	if cfg.Version != version.ConfigVersion {
		return fail(fmt.Errorf("config version %d; containerd %s reads version %d without migration", cfg.Version, version.Version, version.ConfigVersion))
	}
	byURI := map[string]plugin.Registration{}
	for _, r := range registry.Graph(func(*plugin.Registration) bool { return false }) {
		byURI[r.URI()] = r
	}
	for id := range cfg.Plugins {
		v.Plugins = append(v.Plugins, id)
	}
	sort.Strings(v.Plugins)
	for _, id := range v.Plugins {
		r, ok := byURI[id]
		if !ok {
			return fail(fmt.Errorf("plugins.%q: no built-in plugin has this id", id))
		}
		if r.Config == nil {
			return fail(fmt.Errorf("plugins.%q: this plugin takes no configuration", id))
		}
		if _, err := cfg.Decode(ctx, id, r.Config); err != nil {
			return fail(fmt.Errorf("plugins.%q: %w", id, err))
		}
	}
	if len(hook.found) > 0 {
		return fail(fmt.Errorf("unknown keys (containerd ignores them): %s", strings.Join(hook.found, "; ")))
	}
	// runc options, decoded strictly into runc's own options type
	if rt, ok := cfg.Plugins["io.containerd.cri.v1.runtime"].(map[string]any); ok {
		c, _ := rt["containerd"].(map[string]any)
		runtimes, _ := c["runtimes"].(map[string]any)
		for name, raw := range runtimes {
			r, _ := raw.(map[string]any)
			if r["runtime_type"] != "io.containerd.runc.v2" || r["options"] == nil {
				continue
			}
			b, err := toml.Marshal(r["options"])
			if err != nil {
				return fail(err)
			}
			var o runcoptions.Options
			if err := toml.NewDecoder(strings.NewReader(string(b))).DisallowUnknownFields().Decode(&o); err != nil {
				return fail(fmt.Errorf("runtime %q options: %w", name, err))
			}
			sc := o.SystemdCgroup
			v.SystemdCgroup, v.BinaryName = &sc, o.BinaryName
		}
	}
	return v
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: containerd-judge PATH…")
		os.Exit(2)
	}
	out := json.NewEncoder(os.Stdout)
	for _, p := range os.Args[1:] {
		if err := out.Encode(judge(p)); err != nil {
			os.Exit(1)
		}
	}
}
