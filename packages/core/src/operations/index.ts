export { createOperations } from './create-operations.js';
export type {
  DeadMessageFilter,
  FailingMessage,
  InboxStatusReport,
  MessageboxOperations,
  OperationsOptions,
  OutboxStatusReport,
  PurgeOperationOptions,
  PurgeReport,
  ReplayOptions,
  ResendOptions,
  ResendReport,
  SideCounts,
  StatusOptions,
  StatusReport,
} from './create-operations.js';
export { formatDuration, parseDuration } from './duration.js';
export type { MessageboxSide, OperationTargets, StoredMessage } from './targets.js';
export type { DeadPage, DeadPageOptions } from './dead-pages.js';
export type { OverviewCounts, OverviewOptions, OverviewReport, SideOverview } from './overview.js';
