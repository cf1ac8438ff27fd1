// The existing-machines run's judgement of a destroy (.ci/lab/existing-machines.sh): each
// machine photographed before the first up and after the destroy, then compared but for what
// a running Debian machine changes by itself. bash runs the real comparison on photographs in
// the script's own format (lines as the run of stop 38 took them); the lab run takes the real ones.
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../harness";
import { runWithStandIns, tmpdir } from "../tools";

const IPS = ["192.168.253.140", "192.168.253.139", "192.168.253.141"];

/** A photograph: its sections with their lines. */
function photograph(sections: Record<string, string[]>): string {
  return Object.entries(sections).map(([name, lines]) => [`## ${name}`, ...lines].join("\n")).join("\n") + "\n";
}

const BEFORE = {
  entries: ["d 755 root:root /etc", "f 644 root:root /etc/hostname", "d 755 root:root /var/lib/apt"],
  digests: ["0f0e0d0c0b0a09080706050403020100  /etc/hostname"],
  "unit files": ["ssh.service enabled enabled"],
  modules: ["ext4", "isofs"],
  sysctls: ["net.ipv4.ip_forward = 0"],
  links: ["lo", "enp1s0"],
};

/** existing_compare SUFFIX [runtime] over three machines whose after-photographs add `extra` (section → lines) to BEFORE. */
function compare(extra: Record<string, Record<string, string[]>>, runtime = false): { status: number | null; stderr: string } {
  const dir = tmpdir("photograph-");
  for (const ip of IPS) {
    fs.writeFileSync(path.join(dir, `machine-${ip}.before`), photograph(BEFORE));
    const after = Object.fromEntries(Object.entries(BEFORE).map(([s, lines]) => [s, [...lines, ...(extra[ip]?.[s] ?? [])]]));
    fs.writeFileSync(path.join(dir, `machine-${ip}.after`), photograph(after));
  }
  const script = `set -euo pipefail; run=${dir}; source ${ROOT}/.ci/lab/existing-machines.sh; existing_compare after${runtime ? " runtime" : ""}`;
  const r = runWithStandIns(script, dir);
  return { status: r.status, stderr: r.stderr };
}

// what the machines changed by themselves between the photographs of stop 38's run
const OWN_CHANGES = {
  entries: [
    "f 644 root:root /var/backups/apt.extended_states.0",
    "f 644 root:root /var/lib/apt/daily_lock",
    "f 640 _chrony:_chrony /var/lib/chrony/chrony.drift",
    "f 644 root:root /var/lib/dhcp/dhclient.enp1s0.leases",
    "f 640 root:adm /var/log/syslog.1",
  ],
  digests: ["548d63738d632ce96dceed094bde16e4  /var/backups/apt.extended_states.0", "d41d8cd98f00b204e9800998ecf8427e  /var/lib/apt/daily_lock"],
};

describe("the existing machines compared before the first up and after the destroy", () => {
  it("what a machine changes by itself (apt's daily job, chrony, DHCP, its logs) is not held against the destroy", () => {
    const r = compare(Object.fromEntries(IPS.map((ip) => [ip, OWN_CHANGES])));
    expect({ status: r.status, stderr: r.stderr.includes("not as before") ? r.stderr : "" }).toEqual({ status: 0, stderr: "" });
    expect(r.stderr.match(/ok: 192\.168\.253\.\d+ \(after\) is as it was before the first up/g)).toHaveLength(3);
  });

  it("a file the program left behind fails the comparison, naming the machine and the file; a log of the control plane is not the machine's", () => {
    const r = compare({
      [IPS[0]]: OWN_CHANGES,
      [IPS[1]]: { entries: ["f 644 root:root /etc/systemd/system/kubelet.service", "d 755 root:root /var/log/pods"], digests: ["aa  /etc/systemd/system/kubelet.service"] },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("192.168.253.139 (after): not as before the first up:");
    expect(r.stderr).toContain("> f 644 root:root /etc/systemd/system/kubelet.service");
    expect(r.stderr).toContain("> aa  /etc/systemd/system/kubelet.service");
    expect(r.stderr).toContain("> d 755 root:root /var/log/pods");
    expect(r.stderr).not.toContain("apt.extended_states");
    expect(r.stderr.match(/is as it was before the first up/g)).toHaveLength(2);
  });

  it("the kernel's state (a module, a sysctl) is reported after the destroy and fails only after the reboot", () => {
    const kernel = { [IPS[2]]: { modules: ["br_netfilter"], sysctls: ["net.ipv4.ip_forward = 1"] } };
    const after = compare(kernel);
    expect(after.status).toBe(0);
    expect(after.stderr).toContain("192.168.253.141: kernel state until its next boot");
    expect(after.stderr).toContain("> br_netfilter");
    const rebooted = compare(kernel, true);
    expect(rebooted.status).toBe(1);
    expect(rebooted.stderr).toContain("192.168.253.141 (after): not as before the first up:");
    expect(rebooted.stderr).toContain("> net.ipv4.ip_forward = 1");
  });
});
