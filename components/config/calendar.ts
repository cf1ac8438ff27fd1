// systemd's OnCalendar syntax (systemd.time(7), "Calendar Events"), as far as a schedule
// for the etcd snapshot timer needs it: the shorthands (hourly, daily…) and
// `[WEEKDAYS] [[YEAR-]MONTH-DAY] [HOUR:MINUTE[:SECOND]] [TIMEZONE]`, each component `*`,
// a number in its range, a range `A..B`, a repetition `/N`, or a comma list of those.
// A test holds this check to systemd-analyze's own verdict. Pure. Depends on nothing.

const SHORTHANDS = ["minutely", "hourly", "daily", "monthly", "weekly", "yearly", "quarterly", "semiannually", "annually"];
const DAY = "(?:mon|tue|wed|thu|fri|sat|sun)(?:day|sday|nesday|rsday|urday)?";
const WEEKDAYS = new RegExp(`^${DAY}(?:\\.\\.${DAY})?(?:,${DAY}(?:\\.\\.${DAY})?)*$`, "i");
/** Time zones of the tz database (as this Node.js knows them), and UTC. */
const ZONES = new Set(["UTC", ...Intl.supportedValuesOf("timeZone")]);
const ZONE = { test: (w: string) => ZONES.has(w) };

/** One component (`*`, N, A..B, each with an optional /STEP, comma-listed) with every number in [min, max]. */
function component(text: string, min: number, max: number, decimals = false): boolean {
  const num = decimals ? "\\d+(?:\\.\\d+)?" : "\\d+";
  const re = new RegExp(`^(?:\\*|(${num})(?:\\.\\.(${num}))?)(?:/(\\d+(?:\\.\\d+)?))?$`);
  return text.split(",").every((part) => {
    const m = re.exec(part);
    if (!m) return false;
    const inRange = (s?: string) => s === undefined || (Number(s) >= min && Number(s) <= max);
    if (m[3] === undefined) return inRange(m[1]) && inRange(m[2]);
    // a repetition needs a start, and (unless it is a range's) a second occurrence in range
    const step = Number(m[3]);
    return m[1] !== undefined && step > 0 && inRange(m[1]) && inRange(m[2]) && (m[2] !== undefined || Number(m[1]) + step <= max);
  });
}

function isDate(word: string): boolean {
  const m = /^(?:([^-~]+)-)?([^-~]+)([-~])([^-~]+)$/.exec(word);
  return !!m && (m[1] === undefined || component(m[1], 1970, 2199)) && component(m[2], 1, 12) && component(m[4], 1, 31);
}

function isTime(word: string): boolean {
  const parts = word.split(":");
  return (parts.length === 2 || parts.length === 3) && component(parts[0], 0, 23) && component(parts[1], 0, 59) && (parts.length === 2 || component(parts[2], 0, 59, true));
}

/** Whether systemd accepts `expr` as an OnCalendar expression (the forms above). */
export function isCalendarExpression(expr: string): boolean {
  const words = expr.trim().split(/\s+/).filter(Boolean);
  if (!words.length) return false;
  if (SHORTHANDS.includes(words[0].toLowerCase())) return words.length === 1 || (words.length === 2 && ZONE.test(words[1]));
  let i = 0;
  if (WEEKDAYS.test(words[i])) i++;
  let dateOrTime = false;
  if (i < words.length && isDate(words[i])) (i++, (dateOrTime = true));
  if (i < words.length && isTime(words[i])) (i++, (dateOrTime = true));
  if (dateOrTime && i < words.length && ZONE.test(words[i])) i++;
  return i === words.length && i > 0;
}
