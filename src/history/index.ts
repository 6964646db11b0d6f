export { BackgroundFile } from './background-file.js';
export { HistoryLog, type HistoryStart } from './history-log.js';
export { formatHistoryRow, HISTORY_HEADER, parseHistory, type HistoryRow, type ParsedHistory } from './history-row.js';
export { HISTORY_FILE, readHistory, readSamples, SAMPLES_FILE } from './run-files.js';
export { formatSample, parseSamples, type SampleRecord } from './samples.js';
export { terminalChart, type TerminalChartOptions } from './terminal-chart.js';
