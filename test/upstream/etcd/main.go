// Command etcd-judge loads rendered etcd config files with etcd's own loader and validation
// at the pinned release (go.etcd.io/etcd/server/v3/embed): ConfigFromFile, then Validate,
// then checks that each transport-security section the file sets reached the TLS settings.
// etcd's loader ignores unknown keys; the flag test checks every key against the etcd
// binary's own flag list instead.
//
// Usage: etcd-judge PATH…   Prints one JSON object per file: {"path","error","name"}.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"go.etcd.io/etcd/server/v3/embed"
	"sigs.k8s.io/yaml"
)

type verdict struct {
	Path  string `json:"path"`
	Error string `json:"error"`
	// what etcd understood, for the test to compare with the plan
	Name           string   `json:"name"`
	InitialCluster string   `json:"initialCluster"`
	ClientCertAuth bool     `json:"clientCertAuth"`
	PeerCertAuth   bool     `json:"peerCertAuth"`
	ListenClient   []string `json:"listenClientUrls"`
}

func judge(path string) verdict {
	v := verdict{Path: path}
	data, err := os.ReadFile(path)
	if err != nil {
		v.Error = err.Error()
		return v
	}
	var top map[string]any
	if err := yaml.Unmarshal(data, &top); err != nil {
		v.Error = err.Error()
		return v
	}
	cfg, err := embed.ConfigFromFile(path)
	if err == nil {
		err = cfg.Validate()
	}
	if err == nil {
		if _, ok := top["client-transport-security"]; ok && (cfg.ClientTLSInfo.CertFile == "" || cfg.ClientTLSInfo.KeyFile == "") {
			err = fmt.Errorf("client-transport-security is set but etcd read no certificate or key from it")
		}
		if _, ok := top["peer-transport-security"]; ok && (cfg.PeerTLSInfo.CertFile == "" || cfg.PeerTLSInfo.KeyFile == "") {
			err = fmt.Errorf("peer-transport-security is set but etcd read no certificate or key from it")
		}
	}
	if err != nil {
		v.Error = err.Error()
		return v
	}
	v.Name, v.InitialCluster = cfg.Name, cfg.InitialCluster
	v.ClientCertAuth, v.PeerCertAuth = cfg.ClientTLSInfo.ClientCertAuth, cfg.PeerTLSInfo.ClientCertAuth
	for _, u := range cfg.ListenClientUrls {
		v.ListenClient = append(v.ListenClient, u.String())
	}
	return v
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: etcd-judge PATH…")
		os.Exit(2)
	}
	out := json.NewEncoder(os.Stdout)
	for _, p := range os.Args[1:] {
		if err := out.Encode(judge(p)); err != nil {
			os.Exit(1)
		}
	}
}
