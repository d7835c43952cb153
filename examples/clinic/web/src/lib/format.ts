/**
 * Times in the clinic's zone and money in KRW, with Intl only. The API speaks UTC; the clinic
 * (GET /api/clinic) names its IANA zone. Converting a wall-clock time back to UTC needs the
 * zone's offset at that instant, which Intl gives through formatToParts (no tz library).
 */

const krw = new Intl.NumberFormat('ko-KR', { style: 'currency', currency: 'KRW' })

/** 15000 → "₩15,000". Amounts are integers; there are no minor units in KRW. */
export function formatKrw(amount: number): string {
  return krw.format(amount)
}

/** Formatters bound to one zone. */
export function zoneFormatters(timeZone: string) {
  const date = new Intl.DateTimeFormat('ko-KR', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', weekday: 'short' })
  const time = new Intl.DateTimeFormat('ko-KR', { timeZone, hour: '2-digit', minute: '2-digit', hour12: false })
  const dateTime = new Intl.DateTimeFormat('ko-KR', { timeZone, dateStyle: 'medium', timeStyle: 'short' })
  return {
    date: (iso: string | Date) => date.format(new Date(iso)),
    time: (iso: string | Date) => time.format(new Date(iso)),
    dateTime: (iso: string | Date) => dateTime.format(new Date(iso)),
  }
}

function partsIn(timeZone: string, instant: number) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant))
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value)
  return { y: get('year'), m: get('month'), d: get('day'), h: get('hour'), min: get('minute'), s: get('second') }
}

/** The zone's offset from UTC at an instant, in ms (Seoul: +9 h). */
export function zoneOffsetMs(timeZone: string, instant: number): number {
  const p = partsIn(timeZone, instant)
  const asUtc = Date.UTC(p.y, p.m - 1, p.d, p.h, p.min, p.s)
  return asUtc - Math.floor(instant / 1000) * 1000
}

/** The calendar date ("YYYY-MM-DD") of an instant in the zone. */
export function zonedDate(timeZone: string, instant: Date | string | number = Date.now()): string {
  const p = partsIn(timeZone, new Date(instant).getTime())
  return `${p.y}-${String(p.m).padStart(2, '0')}-${String(p.d).padStart(2, '0')}`
}

/** "HH:mm" of an instant in the zone. */
export function zonedTime(timeZone: string, instant: Date | string | number): string {
  const p = partsIn(timeZone, new Date(instant).getTime())
  return `${String(p.h).padStart(2, '0')}:${String(p.min).padStart(2, '0')}`
}

/** A wall-clock date and time in the zone → the UTC instant, as RFC 3339. */
export function zonedToUtc(timeZone: string, ymd: string, hm = '00:00'): string {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number]
  const [h, min] = hm.split(':').map(Number) as [number, number]
  const wall = Date.UTC(y, m - 1, d, h, min)
  // Twice: the offset at the first guess may differ from the offset at the answer (DST edges).
  let utc = wall - zoneOffsetMs(timeZone, wall)
  utc = wall - zoneOffsetMs(timeZone, utc)
  return new Date(utc).toISOString()
}

/** Adds days to a "YYYY-MM-DD" date. */
export function addDays(ymd: string, days: number): string {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number]
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10)
}

/** The Monday of the week holding the date. */
export function weekStart(ymd: string): string {
  const [y, m, d] = ymd.split('-').map(Number) as [number, number, number]
  const weekday = new Date(Date.UTC(y, m - 1, d)).getUTCDay() // 0 = Sunday
  return addDays(ymd, -((weekday + 6) % 7))
}
