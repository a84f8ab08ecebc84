/** protocol/: what master, agent and CLI agree on. This is the folder's one public entry. */
export * from './errors.js';
export * from './topics.js';
export * from './codec.js';
export * from './quantity.js';
export * from './types.js';
export * from './messages.js';
export * from './selector.js';
export * from './kinds.js';
export * from './manifest.js';
export { Checker, isObject } from './check.js';
export { runtimeClasses } from './resources/podspec.js';
export type { DaemonSet } from './resources/daemonset.js';
export type { Job } from './resources/job.js';
export type { Endpoints, EndpointAddress, EndpointPort, EndpointSubset } from './resources/endpoints.js';
export { isTimeZone, type CronJob } from './resources/cronjob.js';
export { scalableKinds, type HorizontalPodAutoscaler, type MetricSpec, type MetricTarget } from './resources/hpa.js';
export * from './duration.js';
export * from './version.js';
