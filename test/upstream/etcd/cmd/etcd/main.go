// Command etcd: the etcd server of the pinned release (go.etcd.io/etcd/server/v3), for the
// test that runs this program's membership scripts (member add, member remove) against a
// real cluster on loopback addresses.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
