export { Exporter, DEFAULT_PORT, TIMEOUT_OFFSET_S, MAX_TARGET_LENGTH, type ServeOptions } from './server.js';
export { parseConfig, buildConfig, ConfigError, DEFAULT_MODULE, type Module, type ServeConfig } from './config.js';
