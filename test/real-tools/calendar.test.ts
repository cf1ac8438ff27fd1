// The snapshot schedule's preflight check (config/calendar) says what systemd says: for
// every expression below and for generated ones, isCalendarExpression agrees with
// `systemd-analyze calendar`.
import * as fc from "fast-check";
import { isCalendarExpression } from "../../components/config";
import { run } from "../tools";

const systemdAccepts = (expr: string) => run("systemd-analyze", ["calendar", expr]).status === 0;

const EXPRESSIONS = [
  "hourly", "daily", "weekly", "daily UTC", "*-*-* 00/6:00:00", "*-*-* 00/6:00:00 UTC", "Mon..Fri 12:00", "Mon *-*-* 00:00:00",
  "Sat,Sun 10:00 Europe/Berlin", "2026-12-04 10:00", "*-01-01", "*-*~01", "*:0/15", "*-*-* *:*:*", "*-*-* 00:00:00.5", "mon..fri",
  "every day at noon", "noon", "*-*-* 25:00", "*-13-01", "*-*-32", "12:60", "*:*:61", "off", "0/0:00", "Mon,Tue *-*-01..04 12:00:00",
];

describe("the snapshot schedule check", () => {
  it.each(EXPRESSIONS)("agrees with systemd-analyze on %s", (expr) => {
    expect(isCalendarExpression(expr)).toBe(systemdAccepts(expr));
  });

  it("agrees with systemd-analyze on generated expressions", () => {
    const num = (max: number) => fc.oneof(fc.constant("*"), fc.integer({ min: 0, max }).map(String), fc.tuple(fc.integer({ min: 0, max }), fc.integer({ min: 1, max: 9 })).map(([a, s]) => `${a}/${s}`));
    const expr = fc.tuple(
      fc.constantFrom("", "Mon ", "Sat,Sun ", "Mon..Fri ", "Funday "),
      fc.option(fc.tuple(num(14), num(33)).map(([m, d]) => `*-${m}-${d} `), { nil: "" }),
      fc.tuple(num(25), num(61)).map(([h, m]) => `${h}:${m}`),
      fc.constantFrom("", " UTC", " Mars/Olympus"),
    ).map((p) => p.join("").trim());
    let checked = 0;
    fc.assert(
      fc.property(expr, (e) => {
        checked++;
        return isCalendarExpression(e) === systemdAccepts(e);
      }),
      { numRuns: 150 },
    );
    expect(checked).toBeGreaterThanOrEqual(150);
  });
});
