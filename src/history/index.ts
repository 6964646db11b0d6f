export { BackgroundFile } from './background-file.js';
export { HistoryLog, type HistoryStart, type StepRecord } from './history-log.js';
export { formatHistoryRow, HISTORY_HEADER, HISTORY_HEADER_PER_SEQUENCE, parseHistory, type HistoryRow, type ParsedHistory } from './history-row.js';
export { RECENT_LABEL, RECENT_STEPS, trailingMeans, TrailingMean } from './recent-loss.js';
export { HISTORY_FILE, readHistory, readSamples, SAMPLES_FILE, type ReadHistoryOptions } from './run-files.js';
export { formatSample, parseSamples, type ParsedSamples, type SampleRecord } from './samples.js';
export { CHART_WIDTH, chartWidth, terminalChart, terminalColors, type TerminalChartOptions } from './terminal-chart.js';
