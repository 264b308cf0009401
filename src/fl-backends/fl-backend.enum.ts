/** Database values of a net's FL backend (the GraphQL enum exposes them upper-cased). */
export enum FlBackend {
  NVFLARE = 'nvflare',
  FLOWER = 'flower',
}
