/**
 * A trust `alias` is on hold now: held, and either until released or until a
 * time that has not come yet — by the database clock, so a hold whose time
 * has passed is over without anything writing it off.
 */
export function trustHeldText(alias: string): string {
  return `(${alias}.on_hold and (${alias}.hold_until is null or ${alias}.hold_until > now()))`;
}

/** When the hold of trust `alias` ends by itself; null when it is not on hold, or held until released. */
export function holdEndsText(alias: string): string {
  return `(case when ${trustHeldText(alias)} then ${alias}.hold_until end)`;
}
