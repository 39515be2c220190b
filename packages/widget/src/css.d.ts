// build.mjs bundles .css files as minified text for a constructable stylesheet.
declare module '*.css' {
  const text: string;
  export default text;
}
