import { LabValidationError } from '../../generator/errors.js';
import { validateLab } from '../../generator/model/load.js';

/** Every problem validateLab reports for a lab, or [] when it is valid. */
export function problems(input: unknown): string[] {
  try {
    validateLab(input);
    return [];
  } catch (e) {
    if (e instanceof LabValidationError) return e.problems;
    throw e;
  }
}
