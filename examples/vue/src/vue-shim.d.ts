// Single-file components as tsc sees them: their own types are checked by the Vue compiler only.
declare module '*.vue' {
  import type { DefineComponent } from 'vue';
  const component: DefineComponent;
  export default component;
}
