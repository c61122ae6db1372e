import mongoose from 'mongoose';

const userSchema = new mongoose.Schema({ name: String, status: { type: String, enum: ['pending', 'active'] }, activatedAt: Date });
/** The app's own model, on its default connection. */
export const User = mongoose.models.User ?? mongoose.model('User', userSchema, 'users');
export { userSchema };
