// The strftime format naming a timekey slice: out_file#timekey_to_timeformat,
// copied as-is by out_s3.rb ("stolen from Fluentd"). One copy for every output.

/** strftime format for a chunk's time slice ('' without a timekey). */
export function timekeyToTimeFormat(timekey: number | undefined): string {
  if (timekey === undefined) return '';
  if (timekey < 60) return '%Y%m%d%H%M%S';
  if (timekey < 3600) return '%Y%m%d%H%M';
  if (timekey < 86400) return '%Y%m%d%H';
  return '%Y%m%d';
}
