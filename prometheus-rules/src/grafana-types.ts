// The subset of Grafana's dashboard JSON model (schemaVersion 39, Grafana 10/11) that the torchain dashboard uses,
// typed so a misspelt field is a compile error rather than a silently ignored key.

export interface DataSourceRef {
  type: 'prometheus';
  uid: string;
}

export interface PrometheusTarget {
  refId: string;
  datasource: DataSourceRef;
  expr: string;
  legendFormat?: string;
  instant?: boolean;
  range?: boolean;
  interval?: string;
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export interface ValueMapping {
  type: 'value';
  options: Record<string, { text: string; color: string; index: number }>;
}

export interface Threshold {
  color: string;
  value: number | null;
}

export interface FieldConfig {
  defaults: {
    unit?: string;
    min?: number;
    max?: number;
    decimals?: number;
    color?: { mode: 'palette-classic' | 'thresholds' | 'fixed'; fixedColor?: string };
    mappings?: ValueMapping[];
    thresholds?: { mode: 'absolute'; steps: Threshold[] };
    custom?: Record<string, unknown>;
  };
  overrides: unknown[];
}

export type PanelType = 'state-timeline' | 'timeseries' | 'stat' | 'bargauge' | 'row';

export interface Panel {
  id: number;
  type: PanelType;
  title: string;
  description?: string;
  gridPos: GridPos;
  datasource?: DataSourceRef;
  targets?: PrometheusTarget[];
  fieldConfig?: FieldConfig;
  options?: Record<string, unknown>;
  collapsed?: boolean;
  panels?: Panel[];
}

export interface DatasourceVariable {
  type: 'datasource';
  name: string;
  label: string;
  query: 'prometheus';
  regex: string;
  current: Record<string, never>;
  hide: 0;
  refresh: 1;
  options: [];
}

export interface QueryVariable {
  type: 'query';
  name: string;
  label: string;
  datasource: DataSourceRef;
  definition: string;
  query: { query: string; refId: string; qryType: 1 };
  refresh: 2;
  sort: 1;
  multi: false;
  includeAll: false;
  current: Record<string, never>;
  hide: 0;
  regex: string;
  options: [];
}

export interface Dashboard {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  editable: boolean;
  graphTooltip: 0 | 1 | 2;
  schemaVersion: number;
  version: number;
  refresh: string;
  time: { from: string; to: string };
  timepicker: Record<string, never>;
  timezone: string;
  templating: { list: (DatasourceVariable | QueryVariable)[] };
  annotations: { list: unknown[] };
  links: unknown[];
  panels: Panel[];
}
