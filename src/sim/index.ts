/** Public API of the MeerKAT simulator (ARCHITECTURE.md: src/sim depends on fits and core only). */
export { ANTENNA_FILE_ENV, defaultAntennaFile, loadArrayLayout, parseAntennaTable } from './array';
export type { Antenna, ArrayLayout } from './array';
export { SPEED_OF_LIGHT, channelFrequencies, hourAngles, uvCoverage } from './uv';
export type { ObservationOptions, UvCoverage } from './uv';
export { applyWeighting, describeWeighting, gridCounts, theoreticalImageNoise } from './weighting';
export type { UvGrid, WeightGrid, Weighting } from './weighting';
export { cropCentre, psfAndNoise, renderPointSources } from './imaging';
export type { PsfAndNoise } from './imaging';
export { MAIN_LOBE_LEVEL, beamQuadraticForm, fitBeam } from './beam-fit';
export type { FittedBeam } from './beam-fit';
export { DEFAULT_CLEAN_OPTIONS, hogbomClean, restore } from './clean';
export type { CleanOptions, CleanResult, ComponentConvolver } from './clean';
export { borderNoiseStd } from './noise-stats';
export { checkSeparationFeasible, drawSnrs, placeSources, snrExponentialMean } from './sources';
export type { CoreRegion, PlacedSources, SkyProjection } from './sources';
export {
  DEFAULT_SIMULATION_OPTIONS,
  DIFFERENT_FIELD_BOX,
  coreRegion,
  fieldWcsCards,
  imageSeed,
  parseWeighting,
  planSimulation,
  resolveSimulationOptions,
  simulateImage,
  sourcesPerImage,
} from './simulate';
export type { FieldMode, ImagePlan, ResolvedSimulationOptions, SimulatedImage, SimulationOptions } from './simulate';
