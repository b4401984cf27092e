export { Exporter, DEFAULT_PORT, TIMEOUT_OFFSET_S, MAX_TARGET_LENGTH, type ServeOptions } from './server.js';
export { parseConfig, buildConfig, ConfigError, DEFAULT_MODULE, WATCH_DEFAULTS, type Module, type ServeConfig, type WatchConfig } from './config.js';
