import { z } from "zod";

export const LoginBody = z.object({
  email: z.string().trim().toLowerCase().pipe(z.email({ message: "Enter the admin email address." })),
  password: z.string().min(1, "Enter the password.").max(1024),
  returnTo: z.string().optional(),
  _csrf: z.string().optional(),
});
export type LoginInput = z.infer<typeof LoginBody>;

export const CreateTokenBody = z.strictObject({
  name: z.string().trim().min(1, "Give the token a name, e.g. \"Zapier\".").max(80, "At most 80 characters."),
  _csrf: z.string().optional(),
});
export type CreateTokenInput = z.infer<typeof CreateTokenBody>;

export const IdParams = z.object({ id: z.string().min(1).max(64) });
